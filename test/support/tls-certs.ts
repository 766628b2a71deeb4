// A throwaway PKI for TLS tests, made with the openssl CLI: a CA, a server
// certificate for localhost / 127.0.0.1, client certificates it signs, and a
// second, unrelated CA with a client of its own. Generated once per test
// process (a few openssl runs), kept in memory as PEM strings; the temp
// directory is removed as soon as the files are read.
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

export interface CertificatePair {
  /** The certificate, PEM. */
  certPem: string
  /** Its private key (unencrypted PKCS#8), PEM. */
  keyPem: string
  /** The subject's common name. */
  commonName: string
}

export interface TestPki {
  /** The CA that signs `server`, `client` and `secondClient`. */
  ca: CertificatePair
  /** CN=localhost, SAN DNS:localhost and IP:127.0.0.1, serverAuth. */
  server: CertificatePair
  /** A clientAuth certificate signed by `ca`. */
  client: CertificatePair
  /** Another clientAuth certificate signed by `ca`, with a different subject and key. */
  secondClient: CertificatePair
  /** An unrelated CA: nothing above trusts it. */
  foreignCa: CertificatePair
  /** A clientAuth certificate signed by `foreignCa`. */
  foreignClient: CertificatePair
  /** Like `server` (localhost, 127.0.0.1) but signed by `foreignCa`. */
  foreignServer: CertificatePair
}

// One day is plenty for a test run; EC P-256 keys keep generation fast.
const DAYS = '1'
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']

async function createCa (dir: string, name: string, commonName: string): Promise<CertificatePair> {
  const keyFile = join(dir, `${name}.key`)
  const certFile = join(dir, `${name}.pem`)
  await run('openssl', [
    'req', '-x509', ...NEW_KEY, '-keyout', keyFile, '-out', certFile, '-days', DAYS,
    '-subj', `/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE',
    '-addext', 'keyUsage=critical,keyCertSign,cRLSign'
  ])
  return { certPem: await readFile(certFile, 'utf8'), keyPem: await readFile(keyFile, 'utf8'), commonName }
}

async function issue (
  dir: string,
  name: string,
  issuer: { name: string },
  commonName: string,
  extensions: string[]
): Promise<CertificatePair> {
  const keyFile = join(dir, `${name}.key`)
  const csrFile = join(dir, `${name}.csr`)
  const certFile = join(dir, `${name}.pem`)
  const extFile = join(dir, `${name}.ext`)
  await writeFile(extFile, ['basicConstraints=critical,CA:FALSE', ...extensions, ''].join('\n'))
  await run('openssl', ['req', '-new', ...NEW_KEY, '-keyout', keyFile, '-out', csrFile, '-subj', `/CN=${commonName}`])
  await run('openssl', [
    'x509', '-req', '-in', csrFile, '-out', certFile, '-days', DAYS,
    '-CA', join(dir, `${issuer.name}.pem`), '-CAkey', join(dir, `${issuer.name}.key`), '-set_serial', `0x${randomSerial()}`,
    '-extfile', extFile
  ])
  return { certPem: await readFile(certFile, 'utf8'), keyPem: await readFile(keyFile, 'utf8'), commonName }
}

function randomSerial (): string {
  // Positive 64-bit serial; uniqueness only matters within one test PKI.
  return (BigInt(Date.now()) * 1_000_000n + BigInt(Math.floor(Math.random() * 1_000_000))).toString(16)
}

const CLIENT = ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=clientAuth']
const SERVER = ['keyUsage=critical,digitalSignature', 'extendedKeyUsage=serverAuth', 'subjectAltName=DNS:localhost,IP:127.0.0.1']

async function generate (): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'test-pki-'))
  try {
    const ca = await createCa(dir, 'ca', 'Webhook Test CA')
    const foreignCa = await createCa(dir, 'foreign-ca', 'Foreign Test CA')
    const [server, client, secondClient, foreignClient, foreignServer] = await Promise.all([
      issue(dir, 'server', { name: 'ca' }, 'localhost', SERVER),
      issue(dir, 'client', { name: 'ca' }, 'webhook-client-a', CLIENT),
      issue(dir, 'second-client', { name: 'ca' }, 'webhook-client-b', CLIENT),
      issue(dir, 'foreign-client', { name: 'foreign-ca' }, 'webhook-client-foreign', CLIENT),
      issue(dir, 'foreign-server', { name: 'foreign-ca' }, 'localhost', SERVER)
    ])
    return { ca, server, client, secondClient, foreignCa, foreignClient, foreignServer }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

let cached: Promise<TestPki> | undefined

/** The test PKI, generated on first use and shared by every test in this process. */
export function testPki (): Promise<TestPki> {
  cached ??= generate().catch((err: unknown) => {
    cached = undefined
    throw err
  })
  return cached
}
