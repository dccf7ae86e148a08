import { TetherError, err, ok, type Result } from '../../common/index.js';

/**
 * Kubernetes resource quantities (k8s.io/apimachinery/pkg/api/resource): "250m", "1.5",
 * "128Mi", "1G", "1e3". Kept exact as a rational of bigints so that conversions round the
 * way upstream does (`Value()` and `MilliValue()` round up, away from zero) instead of
 * inheriting binary floating-point error ("0.1" CPU must be exactly 100 millicores).
 */
export class InvalidQuantityError extends TetherError {
  readonly code = 'INVALID_QUANTITY';
}

const BINARY: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const DECIMAL: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};

// Same grammar as upstream's parseQuantityString: sign, digits with at most one point
// (at least one digit), then one suffix: binary SI, decimal SI, or a decimal exponent.
const QUANTITY_RE = /^([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

export class Quantity {
  /** value = sign * num / den, with num >= 0 and den > 0. */
  private constructor(
    private readonly negative: boolean,
    private readonly num: bigint,
    private readonly den: bigint,
    readonly text: string,
  ) {}

  static parse(text: string): Result<Quantity, InvalidQuantityError> {
    const m = QUANTITY_RE.exec(text.trim());
    if (m === null) return err(new InvalidQuantityError(`invalid quantity ${JSON.stringify(text)}`));
    const [, sign = '', digits = '', suffix = ''] = m;
    const [intPart = '', fracPart = ''] = digits.split('.');
    let num = BigInt((intPart + fracPart).replace(/^0+(?=\d)/, '') || '0');
    let den = 10n ** BigInt(fracPart.length);
    const bin = BINARY[suffix];
    let exp10: number;
    if (bin !== undefined) {
      num *= 2n ** BigInt(bin);
      exp10 = 0;
    } else if (suffix.startsWith('e') || suffix.startsWith('E')) {
      exp10 = Number(suffix.slice(1));
      // Upstream rejects exponents that cannot be represented; keep numbers sane.
      if (Math.abs(exp10) > 100) return err(new InvalidQuantityError(`quantity exponent too large: ${text}`));
    } else {
      exp10 = DECIMAL[suffix] ?? 0;
    }
    if (exp10 >= 0) num *= 10n ** BigInt(exp10);
    else den *= 10n ** BigInt(-exp10);
    return ok(new Quantity(sign === '-' && num !== 0n, num, den, text));
  }

  /** For literals in code and tests; throws on bad input. */
  static must(text: string): Quantity {
    const r = Quantity.parse(text);
    if (!r.ok) throw r.error;
    return r.value;
  }

  static zero(): Quantity {
    return new Quantity(false, 0n, 1n, '0');
  }

  isZero(): boolean {
    return this.num === 0n;
  }

  /** The value scaled by 10^-scale, rounded up away from zero (upstream `ScaledValue`). */
  private scaled(scale: number): bigint {
    let n = this.num;
    let d = this.den;
    if (scale >= 0) d *= 10n ** BigInt(scale);
    else n *= 10n ** BigInt(-scale);
    const q = (n + d - 1n) / d;
    return this.negative ? -q : q;
  }

  /** Whole units, rounded up (upstream `Value()`): bytes for memory. */
  value(): number {
    return Number(this.scaled(0));
  }

  /** Thousandths, rounded up (upstream `MilliValue()`): millicores for CPU. */
  milliValue(): number {
    return Number(this.scaled(-3));
  }

  /** -1, 0 or 1 (upstream `Cmp`). */
  cmp(other: Quantity): number {
    const a = (this.negative ? -this.num : this.num) * other.den;
    const b = (other.negative ? -other.num : other.num) * this.den;
    return a === b ? 0 : a < b ? -1 : 1;
  }

  add(other: Quantity): Quantity {
    const a = (this.negative ? -this.num : this.num) * other.den;
    const b = (other.negative ? -other.num : other.num) * this.den;
    const sum = a + b;
    return new Quantity(sum < 0n, sum < 0n ? -sum : sum, this.den * other.den, `${this.text}+${other.text}`);
  }

  toString(): string {
    return this.text;
  }
}

/** Parses a quantity string as found in a PodSpec's `resources`. */
export function parseQuantity(text: string): Result<Quantity, InvalidQuantityError> {
  return Quantity.parse(text);
}
