import { expect } from 'chai';
import { Unpackr } from 'msgpackr';
import { msgpackSerializer } from '../../../src/serialization/msgpack-serializer.js';

const roundTrip = (value: unknown) => msgpackSerializer.deserialize(msgpackSerializer.serialize(value));

describe('msgpackSerializer', () => {
  it('is named msgpack', () => {
    expect(msgpackSerializer.name).to.equal('msgpack');
  });

  it('round-trips objects, nested values and falsy values', () => {
    const original = {
      user: { id: 1, name: 'Alice' },
      posts: [{ id: 1, title: 'Post 1' }],
      zero: 0,
      no: false,
      empty: '',
    };
    expect(roundTrip(original)).to.deep.equal(original);
  });

  it('keeps Buffers as bytes', () => {
    const bytes = Buffer.from([0, 1, 254, 255]);
    const decoded = roundTrip({ bytes }) as { bytes: Uint8Array };
    expect(Buffer.from(decoded.bytes).equals(bytes)).to.equal(true);
  });

  it('keeps Dates as Dates', () => {
    const date = new Date('2024-01-02T03:04:05.678Z');
    expect(roundTrip({ date })).to.deep.equal({ date });
  });

  it('is smaller than JSON for a typical record', () => {
    const record = { id: 123456, active: true, score: 98.5, tags: ['a', 'b', 'c'] };
    expect(msgpackSerializer.serialize(record).length).to.be.below(
      Buffer.from(JSON.stringify(record)).length,
    );
  });

  it('writes plain MessagePack that another MessagePack reader decodes', () => {
    const original = { id: 1, name: 'Alice', list: [1, 2, 3] };
    expect(new Unpackr({ useRecords: false }).unpack(msgpackSerializer.serialize(original))).to.deep.equal(
      original,
    );
  });

  it('throws for truncated data and for bytes that are not one MessagePack value', () => {
    expect(() => msgpackSerializer.deserialize(Buffer.from([0x82, 0xa1]))).to.throw(
      /end of MessagePack data/,
    );
    expect(() => msgpackSerializer.deserialize(Buffer.from('invalid json'))).to.throw();
  });
});
