// Values of the schema's non-text scalars that pass coercion, for tests that build inputs by type.

/** A value the scalar `name` coerces (Int, Float, Boolean, DateTime); undefined for any other. */
export function scalarValue(name: string): unknown {
  switch (name) {
    case 'Int':
    case 'Float':
      return 1;
    case 'Boolean':
      return false;
    case 'DateTime':
      return '2026-01-01T00:00:00Z';
    default:
      return undefined;
  }
}
