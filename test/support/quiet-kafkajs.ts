// Test workers drive kafkajs producers and consumers of their own; kafkajs
// 2.2.4 arms a negative timer when requests queue (see kafkajs-warnings.ts),
// and Node prints a TimeoutNegativeWarning for each. Every other warning
// still prints.
import { quietKafkajsTimerWarning } from '../../services/events/src/kafkajs-warnings.js'

quietKafkajsTimerWarning()
