// Fixed, well-formed mTLS material for tests that create endpoints: the
// store parses every PEM when an endpoint is created (subscriptions/tls-check.ts),
// so look-alike PEM no longer passes. Self-signed EC P-256 certificates valid
// until 2126, made once with
//   openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500 -subj /CN=…
// Test material only: the keys are published here.

/** A self-signed certificate (CN=webhook-dispatcher-test-fixture), also usable as a CA. */
export const FIXTURE_CERT_PEM = `-----BEGIN CERTIFICATE-----
MIIBqjCCAVGgAwIBAgIUQlTOrpTaLLQtAkBtqdCneVxGSLkwCgYIKoZIzj0EAwIw
KjEoMCYGA1UEAwwfd2ViaG9vay1kaXNwYXRjaGVyLXRlc3QtZml4dHVyZTAgFw0y
NjEyMDQyMjA1MThaGA8yMTI2MTExMDIyMDUxOFowKjEoMCYGA1UEAwwfd2ViaG9v
ay1kaXNwYXRjaGVyLXRlc3QtZml4dHVyZTBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABDvrRkCsMKJaF90qmOFjNLrrADlDqaZyyGOnzJNcO0qkKSSPX38sx5krE816
H/TUzTo2O/UN6lMG54rVko322J6jUzBRMB0GA1UdDgQWBBRWld8wo2Bc/7Ts89V6
fcXQQYfbxTAfBgNVHSMEGDAWgBRWld8wo2Bc/7Ts89V6fcXQQYfbxTAPBgNVHRMB
Af8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIBgx83rOeVy8FRyDMxcqRiZA6gem
qtwWxF35oErD88xsAiB8SIVvWLm+J8xiAeH2g00DhviSVWv3QaQOkVY1zayS+Q==
-----END CERTIFICATE-----
`

/** The private key (PKCS#8) of {@link FIXTURE_CERT_PEM}. */
export const FIXTURE_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgK/ZLhNPvrt3GOwqZ
el6YOFpauU/9NSPM27Wvpzw6hPehRANCAAQ760ZArDCiWhfdKpjhYzS66wA5Q6mm
cshjp8yTXDtKpCkkj19/LMeZKxPNeh/01M06Njv1DepTBueK1ZKN9tie
-----END PRIVATE KEY-----
`

/** A second, unrelated certificate and key (CN=webhook-dispatcher-other-fixture). */
export const OTHER_CERT_PEM = `-----BEGIN CERTIFICATE-----
MIIBrjCCAVOgAwIBAgIULGPUdsLMRm9hW3ULKeEAew47QDcwCgYIKoZIzj0EAwIw
KzEpMCcGA1UEAwwgd2ViaG9vay1kaXNwYXRjaGVyLW90aGVyLWZpeHR1cmUwIBcN
MjYxMjA0MjIwNTE4WhgPMjEyNjExMTAyMjA1MThaMCsxKTAnBgNVBAMMIHdlYmhv
b2stZGlzcGF0Y2hlci1vdGhlci1maXh0dXJlMFkwEwYHKoZIzj0CAQYIKoZIzj0D
AQcDQgAEwgNVxZQFykwgcqXCVKzZKXB1spYK/TOxoUlQwdxswuwvbhcSN6UhcIJv
Ifi05BIi014/4HwG82naYi5fI3NyYqNTMFEwHQYDVR0OBBYEFLX7CseKjYJF/AJX
7ka4AquYQhCcMB8GA1UdIwQYMBaAFLX7CseKjYJF/AJX7ka4AquYQhCcMA8GA1Ud
EwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAMrAdAOaBfdbz6OFws0naI+u
NOUwMwwbk6Uo8zU/ee9/AiEA7xauQSzv6qXCi+HpQaqHJ4hekM+pQAoQJaDvNtzv
qZg=
-----END CERTIFICATE-----
`
export const OTHER_KEY_PEM = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgf/9urZKncGkYdWib
MGYwEi/zyw1Yz6dutdJtGZBtpryhRANCAATCA1XFlAXKTCBypcJUrNkpcHWylgr9
M7GhSVDB3GzC7C9uFxI3pSFwgm8h+LTkEiLTXj/gfAbzadpiLl8jc3Ji
-----END PRIVATE KEY-----
`

/**
 * A CA bundle of exactly `length` characters that parses: copies of
 * {@link FIXTURE_CERT_PEM}, padded with newlines (text outside PEM blocks is
 * ignored, as by OpenSSL).
 */
export function caBundleOfLength (length: number): string {
  const copies = Math.floor(length / FIXTURE_CERT_PEM.length)
  if (copies < 1) throw new RangeError(`a bundle needs at least ${FIXTURE_CERT_PEM.length} characters`)
  const bundle = FIXTURE_CERT_PEM.repeat(copies)
  return bundle + '\n'.repeat(length - bundle.length)
}
