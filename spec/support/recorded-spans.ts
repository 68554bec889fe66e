import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  type Sampler,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

/** The spans an OpenTelemetry SDK recorded for the calling `describe`. */
export interface RecordedSpans {
  /** Every span ended since the current test began, in the order they ended. */
  all(): ReadableSpan[];
  /** Those named `name`. */
  named(name: string): ReadableSpan[];
  /** The ended span named `name`; throws unless there is exactly one. */
  one(name: string): ReadableSpan;
}

/**
 * Registers, for the tests of the calling `describe`, an OpenTelemetry SDK as an app does (a global
 * tracer provider whose spans end up in memory, and an AsyncLocalStorage context manager, so that
 * the active span follows `await`s), and unregisters it after them. Spans are forgotten before each test.
 * `sampler`: which traces the SDK records (default: all).
 */
export function useRecordedSpans(sampler?: Sampler): RecordedSpans {
  const exporter = new InMemorySpanExporter();
  let provider: BasicTracerProvider | undefined;

  before(() => {
    const spanProcessors = [new SimpleSpanProcessor(exporter)];
    provider = new BasicTracerProvider(
      sampler === undefined ? { spanProcessors } : { spanProcessors, sampler },
    );
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    trace.setGlobalTracerProvider(provider);
  });

  beforeEach(() => exporter.reset());

  after(async () => {
    trace.disable();
    context.disable();
    await provider?.shutdown();
  });

  const named = (name: string) => exporter.getFinishedSpans().filter((span) => span.name === name);
  return {
    all: () => exporter.getFinishedSpans(),
    named,
    one: (name) => {
      const found = named(name);
      if (found.length !== 1) throw new Error(`expected one ${name} span, got ${found.length}`);
      return found[0] as ReadableSpan;
    },
  };
}

/** The id of `span`'s parent, `undefined` for a root span. */
export function parentIdOf(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}
