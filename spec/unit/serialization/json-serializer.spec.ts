import { expect } from 'chai';
import { jsonSerializer } from '../../../src/serialization/json-serializer.js';

const roundTrip = (value: unknown) => jsonSerializer.deserialize(jsonSerializer.serialize(value));

describe('jsonSerializer', () => {
  it('is named json (the name is written into every entry)', () => {
    expect(jsonSerializer.name).to.equal('json');
  });

  it('round-trips an object', () => {
    const original = { id: 1, name: 'Alice', tags: ['admin', 'user'] };
    expect(roundTrip(original)).to.deep.equal(original);
  });

  it('round-trips nested objects', () => {
    const original = { user: { id: 1, name: 'Alice' }, posts: [{ id: 1, title: 'Post 1' }] };
    expect(roundTrip(original)).to.deep.equal(original);
  });

  it('round-trips the falsy values that must stay cacheable', () => {
    for (const value of ['', 0, false, null, []]) expect(roundTrip(value)).to.deep.equal(value);
  });

  it('writes UTF-8 JSON text', () => {
    expect(jsonSerializer.serialize({ name: 'Zoë' }).toString('utf8')).to.equal('{"name":"Zoë"}');
  });

  it('throws for values JSON cannot represent, instead of storing nothing', () => {
    expect(() => jsonSerializer.serialize(undefined)).to.throw(TypeError, /undefined/);
    expect(() => jsonSerializer.serialize(() => 1)).to.throw(TypeError, /function/);
    expect(() => jsonSerializer.serialize(10n)).to.throw(TypeError);
  });

  it('throws for bytes that are not JSON', () => {
    expect(() => jsonSerializer.deserialize(Buffer.from('invalid json'))).to.throw(SyntaxError);
  });
});
