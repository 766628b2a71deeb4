import { describe, expect, it } from 'vitest'
import { SSRF_BLOCKED_CODE } from '../../../../services/dispatcher/src/delivery/http-deliverer.js'
import { checkEndpointUrl, createSsrfPolicy, SSRF_BLOCKED, URL_INVALID } from '../../../../services/dispatcher/src/delivery/ssrf.js'
import { SsrfBlockedError } from '../../../../services/dispatcher/src/errors.js'

const strict = createSsrfPolicy()
const withHttp = createSsrfPolicy({ allowHttp: true })

describe('checkEndpointUrl', () => {
  it('uses the code the deliverer maps to ssrf-blocked', () => {
    expect(SSRF_BLOCKED).toBe(SSRF_BLOCKED_CODE)
    expect(SsrfBlockedError.code).toBe(SSRF_BLOCKED_CODE)
    expect(URL_INVALID).toBe('WHD_ERR_URL_INVALID')
  })

  it.each([
    ['https://example.com/hooks', 'https://example.com/hooks'],
    ['https://EXAMPLE.com:8443/a?b=c#frag', 'https://example.com:8443/a?b=c#frag'],
    ['https://example.com:443/', 'https://example.com/'],
    ['https://example.com:1/', 'https://example.com:1/'],
    ['https://hooks.example.com./in', 'https://hooks.example.com./in'],
    ['https://93.184.215.14/in', 'https://93.184.215.14/in'],
    ['https://[2606:4700:4700:0::1111]/in', 'https://[2606:4700:4700::1111]/in'],
    ['https://[::ffff:8.8.8.8]/', 'https://[::ffff:808:808]/'],
    ['https://bücher.example/', 'https://xn--bcher-kva.example/'],
    ['https://@example.com/', 'https://example.com/']
  ])('accepts %s and returns its normalised form', (input, url) => {
    expect(checkEndpointUrl(input, strict)).toEqual({ ok: true, url })
  })

  it.each([
    ['', /not an absolute URL/],
    ['example.com/hook', /not an absolute URL/],
    ['/relative', /not an absolute URL/],
    ['https://', /not an absolute URL/],
    ['https://exa mple.com/', /not an absolute URL/],
    ['https://1.2.3.4.5/', /not an absolute URL/],
    ['https://4294967296/', /not an absolute URL/],
    ['https://[fe80::1%25eth0]/', /not an absolute URL/],
    ['http://example.com/', /the scheme must be https, not http$/],
    ['ftp://example.com/', /must be https, not ftp/],
    ['file:///etc/passwd', /must be https, not file/],
    ['gopher://127.0.0.1:6379/_INFO', /must be https, not gopher/],
    ['ws://example.com/', /must be https, not ws/],
    ['https://user:pass@example.com/', /must not contain credentials/],
    ['https://user@example.com/', /must not contain credentials/],
    ['https://:pass@example.com/', /must not contain credentials/]
  ])('refuses %j as invalid: %s', (input, reason) => {
    const result = checkEndpointUrl(input, strict)
    expect(result).toMatchObject({ ok: false, code: URL_INVALID })
    if (!result.ok) expect(result.reason).toMatch(reason)
  })

  it('accepts http only when the policy allows it, and never other schemes', () => {
    expect(checkEndpointUrl('http://example.com/', withHttp)).toEqual({ ok: true, url: 'http://example.com/' })
    const ftp = checkEndpointUrl('ftp://example.com/', withHttp)
    expect(ftp).toMatchObject({ ok: false, code: URL_INVALID })
    if (!ftp.ok) expect(ftp.reason).toBe('the scheme must be https or http, not ftp')
  })

  it('refuses a blocked IP literal with a reason that names the range', () => {
    expect(checkEndpointUrl('https://169.254.169.254/latest/meta-data/', strict)).toEqual({
      ok: false,
      code: SSRF_BLOCKED,
      reason: 'the host is not reachable for webhooks: 169.254.169.254 is in 169.254.0.0/16 (link-local (cloud metadata))'
    })
    const mapped = checkEndpointUrl('https://[::ffff:127.0.0.1]/', strict)
    expect(mapped).toMatchObject({ ok: false, code: SSRF_BLOCKED })
    if (!mapped.ok) expect(mapped.reason).toContain('::ffff:7f00:1 is in 127.0.0.0/8 (loopback, via IPv4-mapped ::ffff:0:0/96)')
  })

  it('passes host names without resolving them: the connect-time guard judges their addresses', () => {
    for (const url of ['https://internal.corp/', 'https://metadata.google.internal/', 'https://printer.local/', 'https://intranet/']) {
      expect(checkEndpointUrl(url, strict), url).toMatchObject({ ok: true })
    }
  })

  it.each(['https://localhost/', 'https://LOCALHOST:8443/', 'https://localhost./', 'https://api.localhost/', 'https://a.b.localhost./'])(
    'refuses %s: localhost names always mean loopback', (url) => {
      const result = checkEndpointUrl(url, strict)
      expect(result).toMatchObject({ ok: false, code: SSRF_BLOCKED })
      if (!result.ok) expect(result.reason).toMatch(/always resolves to loopback \(RFC 6761\), and 127\.0\.0\.1 is in 127\.0\.0\.0\/8/)
    })

  it('does not mistake names that merely contain "localhost" for it', () => {
    for (const url of ['https://localhost.example.com/', 'https://notlocalhost/', 'https://my-localhost.dev/']) {
      expect(checkEndpointUrl(url, strict), url).toMatchObject({ ok: true })
    }
  })

  describe('with an allow-list for development', () => {
    const dev = createSsrfPolicy({ allowHttp: true, allowCidrs: ['127.0.0.0/8', '::1/128'] })

    it.each(['http://127.0.0.1:8080/hook', 'http://127.1:8080/hook', 'http://[::1]:8080/hook', 'http://localhost:8080/hook', 'http://[::ffff:127.0.0.1]/'])(
      'opens loopback: %s', (url) => {
        expect(checkEndpointUrl(url, dev)).toMatchObject({ ok: true })
      })

    it('opens localhost when either loopback family is allowed', () => {
      expect(checkEndpointUrl('https://localhost/', createSsrfPolicy({ allowCidrs: ['::1'] }))).toMatchObject({ ok: true })
      expect(checkEndpointUrl('https://localhost/', createSsrfPolicy({ allowCidrs: ['127.0.0.1'] }))).toMatchObject({ ok: true })
    })

    it.each(['http://10.0.0.1/', 'http://169.254.169.254/', 'http://[fe80::1]/', 'http://0.0.0.0/'])('keeps everything else closed: %s', (url) => {
      expect(checkEndpointUrl(url, dev)).toMatchObject({ ok: false, code: SSRF_BLOCKED })
    })
  })
})
