/**
 * The simulated network's vocabulary: fault rates, counters, load figures,
 * the capacity model, and the events a request goes through (for op
 * histories).
 */

export interface FaultRates {
  /** Probability that a request is lost before reaching the server. */
  requestLoss: number;
  /** Probability that a response is lost after the server committed. */
  responseLoss: number;
  /** Probability that one leg (request or answer) is delayed by a spike. */
  latencySpike?: number;
  /** A spike's extra delay, ms (default 2–15 s). */
  spikeMs?: readonly [number, number];
  /** Probability that a delivered batch is delivered once more, later. */
  duplicate?: number;
  /** Probability that a batch is held back and delivered late (after newer ones). */
  reorder?: number;
  /** How late a duplicate or held batch arrives, ms (default 1 s – 2 min). */
  lateMs?: readonly [number, number];
}

export interface NetworkStats {
  requests: number;
  delivered: number;
  requestsLost: number;
  responsesLost: number;
  partitioned: number;
  timeouts: number;
  serverErrors: number;
}

/** Counters of the faults beyond loss and partitions. */
export interface FaultStats {
  /** Requests refused because the server was down. */
  refused: number;
  /** Requests whose handling crashed the server (connection reset). */
  serverCrashes: number;
  spikes: number;
  /** Extra copies of batches delivered by a retransmitting proxy. */
  duplicated: number;
  /** Batches held back and delivered late. */
  reordered: number;
  /** Answers that arrived after the client had given up. */
  lateAnswers: number;
  /** Answers (and timeouts) dropped because the client process had died. */
  deadClient: number;
}

/** How hard the server was hit. */
export interface ServerLoad {
  peakRequestsPerSecond: number;
  peakBatchesPerSecond: number;
  peakOpsPerSecond: number;
  /** Start of the virtual second with the most batches. */
  peakBatchesAt: number | null;
  /** Most requests in flight at once (sent, not yet answered, refused or timed out). */
  maxInFlight: number;
  /** Longest wait in the server's queue (with a capacity model), ms. */
  maxQueueDelayMs: number;
}

/** A server that takes this long per request: requests queue behind each other. */
export interface ServerCapacity {
  perRequestMs: number;
  perOpMs: number;
}

export type Route = 'enroll' | 'batch' | 'query' | 'policy' | 'feed' | 'ping' | 'authorize' | 'loyalty';

/** One thing that happened to a request, for op histories. */
export interface NetEvent {
  type:
    | 'sent'
    | 'refused'
    | 'partitioned'
    | 'request-lost'
    | 'held'
    | 'delivered'
    | 'answered'
    | 'server-crash'
    | 'reset'
    | 'response-partitioned'
    | 'response-lost'
    | 'response-delivered'
    | 'late-answer'
    | 'dead-client'
    | 'timeout';
  at: number;
  request: number;
  client: string;
  zone: string;
  route: Route;
  /** A retransmitted copy (its answer goes nowhere). */
  copy?: boolean;
  /** 'sent': the request object; 'answered': the TransportResult. Read only. */
  body?: unknown;
  /** 'server-crash': the crash point. */
  point?: string;
}

/** Who is on the other end of a transport. */
export interface Endpoint {
  client: string;
  /** False once this client process died: its answers are dropped. */
  alive?: () => boolean;
}
