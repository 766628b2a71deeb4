import { describe, expect, it } from 'vitest'
import { H, readParkedState } from '../../../../services/dispatcher/src/engine/parked-record.js'

describe('readParkedState keeps bytes of its own', () => {
  it('copies the key, value and kept headers out of the fetched batch, so a parked delivery held for hours does not keep the whole batch in memory', () => {
    // A fetched batch: kafkajs hands out slices of one buffer.
    const batch = Buffer.from('key-1|{"value":1}|trace-abc|topic-a|3|42')
    const slice = (from: string, to: string): Buffer => batch.subarray(batch.indexOf(from), batch.indexOf(to) + to.length)
    const state = readParkedState({
      key: slice('key-1', 'key-1'),
      value: slice('{"value":1}', '{"value":1}'),
      headers: {
        traceparent: slice('trace-abc', 'trace-abc'),
        [H.sourceTopic]: slice('topic-a', 'topic-a'),
        [H.sourcePartition]: Buffer.from('3'),
        [H.sourceOffset]: Buffer.from('42')
      }
    })
    const kept = [state.record.key, state.record.value, state.record.headers.traceparent] as Buffer[]
    expect(kept.map((b) => b.toString())).toEqual(['key-1', '{"value":1}', 'trace-abc'])
    // None of them is a view of the batch's bytes: overwriting the batch leaves them as they were.
    batch.fill(0)
    expect(kept.map((b) => b.toString())).toEqual(['key-1', '{"value":1}', 'trace-abc'])
  })
})
