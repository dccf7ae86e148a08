import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidQuantityError, Quantity } from '../../../src/edge/cri/index.js';

describe('edge/cri quantity', () => {
  it.each([
    // [text, value(), milliValue()] — upstream rounds both up, away from zero
    ['250m', 1, 250],
    ['1.5', 2, 1500],
    ['0.1', 1, 100],
    ['2', 2, 2000],
    ['128Mi', 134217728, 134217728000],
    ['1Ki', 1024, 1024000],
    ['1Gi', 1073741824, 1073741824000],
    ['1G', 1e9, 1e12],
    ['1k', 1000, 1e6],
    ['1e3', 1000, 1e6],
    ['1E3', 1000, 1e6],
    ['1.5e-3', 1, 2],
    ['100n', 1, 1],
    ['5u', 1, 1],
    ['0', 0, 0],
    ['+3', 3, 3000],
    ['.5', 1, 500],
    ['1.', 1, 1000],
  ])('edge/cri — quantity %s parses as upstream does', (text, value, milli) => {
    const q = Quantity.must(text);
    expect(q.value()).toBe(value);
    expect(q.milliValue()).toBe(milli);
  });

  it('edge/cri — negative quantities round away from zero', () => {
    expect(Quantity.must('-1.5').value()).toBe(-2);
    expect(Quantity.must('-250m').milliValue()).toBe(-250);
  });

  it.each(['', 'abc', '1K', '1.2.3', '--1', '1 Mi', 'Mi', '1mi', '1e', '0x10'])(
    'edge/cri — %j is not a quantity',
    (text) => {
      const r = Quantity.parse(text);
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error).toBeInstanceOf(InvalidQuantityError);
        expect(r.error.code).toBe('INVALID_QUANTITY');
      }
    },
  );

  it('edge/cri — quantity compare and add are exact (0.1 + 0.2 == 300m)', () => {
    const sum = Quantity.must('0.1').add(Quantity.must('0.2'));
    expect(sum.cmp(Quantity.must('300m'))).toBe(0);
    expect(Quantity.must('1Gi').cmp(Quantity.must('1G'))).toBe(1);
    expect(Quantity.must('500m').cmp(Quantity.must('0.5'))).toBe(0);
    expect(Quantity.must('0').isZero()).toBe(true);
  });

  it('edge/cri — integer milli quantities round-trip for any value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), (m) => {
        expect(Quantity.must(`${m}m`).milliValue()).toBe(m);
        expect(Quantity.must(String(m)).value()).toBe(m);
        expect(Quantity.must(`${m}Ki`).value()).toBe(m * 1024);
      }),
    );
  });
});
