import type { Serializer } from './serializer.js';

/** The default serializer: JSON text in UTF-8. Values must be JSON-representable. */
export const jsonSerializer: Serializer = {
  name: 'json',
  serialize(value) {
    const text = JSON.stringify(value);
    if (text === undefined) {
      throw new TypeError(`jsonSerializer cannot represent a value of type ${typeof value}`);
    }
    return Buffer.from(text, 'utf8');
  },
  deserialize(bytes) {
    return JSON.parse(bytes.toString('utf8'));
  },
};
