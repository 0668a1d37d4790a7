import { canonicalJson } from 'src/common/canonical-json';

describe('canonicalJson', () => {
  it('orders keys at every depth, so insertion order does not change the text', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[1,{"x":1,"y":2}]},"b":1}',
    );
    expect(canonicalJson({ a: 1, b: 2 })).toBe(canonicalJson({ b: 2, a: 1 }));
  });

  it('drops undefined members and keeps non-ASCII text as is', () => {
    expect(canonicalJson({ a: undefined, t: '宣传部' })).toBe('{"t":"宣传部"}');
  });

  it('refuses numbers JSON cannot carry', () => {
    expect(() => canonicalJson({ n: NaN })).toThrow(TypeError);
  });
});
