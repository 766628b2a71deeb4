// Where the packaging tests find what they check.
import { join } from 'node:path'

export const repoRoot = join(import.meta.dirname, '../../..')
export const chartDir = join(repoRoot, 'deploy/helm/webhook-dispatcher')
/** The top-level entries of the image's /app, and of `make dist`'s folder. */
export const imageEntries = ['dist', 'node_modules', 'package.json', 'schemas'] as const
