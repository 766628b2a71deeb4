// The layers of the code, checked by `make lint` (dependency-cruiser): an
// import that runs up a layer, or any import cycle, fails the build.
//
//   services/dispatcher/src, top to bottom:
//   L0  main.ts, cli/, wiring/             wiring and command lines
//   L1  kafka/, http/, redrive/, replay/, history/
//                                          adapters: Kafka, HTTP and database I/O
//   L2  engine/, dead-letters/, portal/, config.ts, admin-tokens.ts
//                                          ordering, parking, retry policy;
//                                          dead-letter rules; the portal ledger's
//                                          contract; validated settings;
//                                          admin tokens (their tenant ids follow
//                                          subscriptions/schema.ts)
//   L3  delivery/, subscriptions/, catalog/ the HTTP delivery seam, signing, SSRF;
//                                          the subscription store; the event catalog
//   L4  errors, logger, metrics, shutdown, version, retriable, timer-delay
//
// Within L1, http and redrive do not import each other or kafka (they meet
// through the seams in dead-letters/ and http/admin/types.ts); nor do http
// and replay (the replay jobs' seam is in http/admin/types.ts too). The events
// module (schemas, codec, Kafka codecs) sits below every service; the
// producer and the dispatcher do not import each other.
const D = '^services/dispatcher/src/'
const L0 = `${D}(main\\.ts|cli/|wiring/)`
const L1 = `${D}(kafka|http|redrive|replay|history)/`
const L2 = `${D}(engine/|dead-letters/|portal/|config\\.ts|admin-tokens\\.ts)`
const L3 = `${D}(delivery|subscriptions|catalog)/`
const L4 = `${D}(errors|logger|metrics|shutdown|version|retriable|timer-delay)\\.ts$`

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'Import cycles hide the direction of dependencies.', from: {}, to: { circular: true } },
    { name: 'adapters-not-into-wiring', severity: 'error', from: { path: L1 }, to: { path: L0 } },
    { name: 'core-not-into-adapters', severity: 'error', comment: 'The engine, the dead-letter rules and config know no Kafka or HTTP adapter.', from: { path: L2 }, to: { path: `${L0}|${L1}` } },
    { name: 'domain-not-upwards', severity: 'error', comment: 'Delivery and subscriptions know neither engine nor adapters.', from: { path: L3 }, to: { path: `${L0}|${L1}|${L2}` } },
    { name: 'base-not-upwards', severity: 'error', comment: 'Shared helpers import only each other.', from: { path: L4 }, to: { path: `${L0}|${L1}|${L2}|${L3}` } },
    { name: 'http-not-into-kafka-or-redrive', severity: 'error', from: { path: `${D}http/` }, to: { path: `${D}(kafka|redrive|replay)/` } },
    { name: 'replay-not-into-http-or-kafka', severity: 'error', from: { path: `${D}replay/` }, to: { path: `${D}(http|kafka)/` } },
    { name: 'redrive-not-into-http-or-kafka', severity: 'error', from: { path: `${D}redrive/` }, to: { path: `${D}(http|kafka)/` } },
    { name: 'history-not-into-other-adapters', severity: 'error', comment: 'The history store and codec know no Kafka client or HTTP server.', from: { path: `${D}history/` }, to: { path: `${D}(http|kafka|redrive)/` } },
    { name: 'kafka-not-into-http-or-redrive', severity: 'error', from: { path: `${D}kafka/` }, to: { path: `${D}(http|redrive)/` } },
    { name: 'events-below-services', severity: 'error', from: { path: '^services/events/' }, to: { path: '^services/(dispatcher|producer|demo-receiver)/' } },
    { name: 'services-apart', severity: 'error', comment: 'The producer library and the dispatcher share only the events module.', from: { path: '^services/producer/' }, to: { path: '^services/(dispatcher|demo-receiver)/' } },
    { name: 'dispatcher-not-into-producer', severity: 'error', from: { path: '^services/dispatcher/' }, to: { path: '^services/(producer|demo-receiver)/' } }
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true
  }
}
