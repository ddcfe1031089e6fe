// PostgreSQL values back to what the stores return: the pool hands bigint
// columns over as BigInt (exact), and latch's numbers (unix ms, credits,
// counts) are safe integers, so they become numbers here.
export const num = (value: unknown): number => Number(value)

export const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))
