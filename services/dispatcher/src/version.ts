/** The dispatcher's version, sent in the User-Agent of every webhook. */
export const VERSION = process.env.npm_package_version ?? '0.1.0'
