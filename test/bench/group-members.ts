// Whether a consumer group has settled with a given number of members, each
// holding partitions of a topic: the scale-out measure starts only then.
import { AssignerProtocol, type Admin, type GroupDescription } from 'kafkajs'

/** Partitions of `topic` each member holds, in member order; undefined while the group is not Stable. */
export function partitionsPerMember (group: Pick<GroupDescription, 'state' | 'members'>, topic: string): number[] | undefined {
  if (group.state !== 'Stable') return undefined
  return group.members.map((member) => {
    try {
      return AssignerProtocol.MemberAssignment.decode(member.memberAssignment)?.assignment[topic]?.length ?? 0
    } catch {
      return 0
    }
  })
}

/** Waits until the group is Stable with `members` members, each holding a partition of `topic`; resolves with the partitions each holds. */
export async function waitForMembers (admin: Admin, groupId: string, topic: string, members: number, deadline: number): Promise<number[]> {
  for (;;) {
    const { groups } = await admin.describeGroups([groupId])
    const held = groups[0] === undefined ? undefined : partitionsPerMember(groups[0], topic)
    if (held !== undefined && held.length === members && held.every((n) => n > 0)) return held
    if (Date.now() > deadline) throw new Error(`group ${groupId} did not settle with ${members} members holding ${topic} (state ${groups[0]?.state ?? 'unknown'}, ${groups[0]?.members.length ?? 0} members)`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}
