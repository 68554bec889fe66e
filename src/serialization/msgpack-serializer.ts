import { Packr } from 'msgpackr';
import type { Serializer } from './serializer.js';

// Records off: plain MessagePack that any other MessagePack reader can decode.
const packr = new Packr({ useRecords: false, moreTypes: false });

/** MessagePack via msgpackr: smaller and faster than JSON, and keeps `Buffer`s and `Date`s intact. */
export const msgpackSerializer: Serializer = {
  name: 'msgpack',
  serialize(value) {
    return packr.pack(value);
  },
  deserialize(bytes) {
    return packr.unpack(bytes);
  },
};
