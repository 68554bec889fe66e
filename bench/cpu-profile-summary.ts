import { BUILDS_FOLDER } from './built-library.js';

/** The parts of a V8 `.cpuprofile` (as written by `node --cpu-prof`) that the summary reads. */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
    children?: number[];
  }[];
}

/** Share of the sampled time spent in one function (self) or under it (total), in percent. */
export interface FunctionShare {
  name: string;
  location: string;
  area: string;
  selfPercent: number;
  totalPercent: number;
}

/** Self time per area of code (our `src/`, Express, node-redis, Node's own, …), in percent. */
export interface AreaShare {
  area: string;
  selfPercent: number;
}

/** Summarises a CPU profile: functions by self and total time, and self time per area of code. */
export function summarizeCpuProfile(
  profile: CpuProfile,
  root: string,
): { functions: FunctionShare[]; areas: AreaShare[] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const childIds = new Set(profile.nodes.flatMap((node) => node.children ?? []));
  const totalHits = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0) || 1;
  const functions = new Map<string, FunctionShare>();
  const areas = new Map<string, number>();

  const keyOf = (frame: CpuProfile['nodes'][number]['callFrame']) =>
    `${frame.functionName}@${frame.url}:${frame.lineNumber}`;
  const shareOf = (frame: CpuProfile['nodes'][number]['callFrame']): FunctionShare => {
    const key = keyOf(frame);
    let share = functions.get(key);
    if (share === undefined) {
      const location = frame.url === '' ? '' : `${shortPath(frame.url, root)}:${frame.lineNumber + 1}`;
      share = {
        name: frame.functionName || '(anonymous)',
        location,
        area: areaOf(frame.url, frame.functionName),
        selfPercent: 0,
        totalPercent: 0,
      };
      functions.set(key, share);
    }
    return share;
  };

  // Depth-first, with the functions already on the stack, so recursion is not counted twice in totals.
  const visit = (id: number, onStack: ReadonlySet<string>): number => {
    const node = byId.get(id);
    if (node === undefined) return 0;
    const share = shareOf(node.callFrame);
    const key = keyOf(node.callFrame);
    const self = node.hitCount ?? 0;
    share.selfPercent += (self / totalHits) * 100;
    areas.set(share.area, (areas.get(share.area) ?? 0) + (self / totalHits) * 100);
    const stack = onStack.has(key) ? onStack : new Set([...onStack, key]);
    let subtree = self;
    for (const child of node.children ?? []) subtree += visit(child, stack);
    if (!onStack.has(key)) share.totalPercent += (subtree / totalHits) * 100;
    return subtree;
  };
  for (const node of profile.nodes) if (!childIds.has(node.id)) visit(node.id, new Set());

  return {
    functions: [...functions.values()],
    areas: [...areas.entries()]
      .map(([area, selfPercent]) => ({ area, selfPercent }))
      .sort((a, b) => b.selfPercent - a.selfPercent),
  };
}

/** Where a built library's file came from (`src/http/x.js` for `…/dist/http/x.js`); see `built-library.ts`. */
function builtSource(path: string): string | undefined {
  const at = path.indexOf(`/${BUILDS_FOLDER}/`);
  if (at === -1) return undefined;
  const inDist = path.indexOf('/dist/', at);
  return inDist === -1 ? undefined : `src/${path.slice(inDist + '/dist/'.length)}`;
}

function shortPath(url: string, root: string): string {
  const path = url.replace(/^file:\/\//, '');
  const built = builtSource(path);
  if (built !== undefined) return built;
  const inModules = path.lastIndexOf('/node_modules/');
  if (inModules !== -1) return path.slice(inModules + '/node_modules/'.length);
  return path.startsWith(root) ? path.slice(root.length + 1) : path;
}

function areaOf(frameUrl: string, functionName: string): string {
  let url = frameUrl;
  if (url === '') {
    if (functionName === '(garbage collector)') return 'garbage collection';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native (program)';
    return 'native';
  }
  if (url.startsWith('node:')) return 'Node.js internals';
  const built = builtSource(url);
  if (built !== undefined) url = `/${built}`;
  const inModules = url.lastIndexOf('/node_modules/');
  if (inModules !== -1) {
    const rest = url.slice(inModules + '/node_modules/'.length).split('/');
    const name = rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : (rest[0] ?? '');
    return name;
  }
  if (url.includes('/src/'))
    return `express-cache-aside ${url
      .slice(url.indexOf('/src/') + 1)
      .split('/')
      .slice(0, 2)
      .join('/')}`;
  if (url.includes('/bench/')) return 'bench fixture';
  return 'other';
}
