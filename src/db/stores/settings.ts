// The settings table: named values that belong to the database itself rather
// than to any workspace (e.g. the fingerprint of the master key its
// recoverable keys are encrypted with).
export interface SettingsStore {
  /** The setting's value, or null when it has none. */
  get(name: string): Promise<string | null>
  /**
   * Sets the value only if the setting currently holds `expected` (null: no
   * value), atomically; returns the value it holds afterwards.
   */
  replace(name: string, expected: string | null, value: string): Promise<string | null>
}
