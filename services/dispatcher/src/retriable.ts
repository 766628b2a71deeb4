// Shared with the producer library and the simulator (services/events).
export { retryRetriable } from '../../events/src/retriable.js'
