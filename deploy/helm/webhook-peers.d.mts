// Types of webhook-peers.mjs for the tests that import it.
export interface WebhookPeer { ipBlock: { cidr: string, except?: string[] } }
export declare const peersFile: string
export declare function parseCidr (cidr: string): { bits: number, base: bigint, prefix: number }
export declare function webhookPeers (): WebhookPeer[]
export declare function peersText (): string
