// Types of values-table.mjs, for the tests that import it.
export interface DocumentedValue {
  path: string
  type: string
  default: unknown
  description: string
}
export const chartDir: string
export function documentedValues (text: string): DocumentedValue[]
export function valuesTable (text: string): string
export function readmeWithTable (readme: string, valuesText: string): string
