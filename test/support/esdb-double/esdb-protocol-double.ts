/**
 * EsdbProtocolDouble: a FAKE of EventStoreDB's public gRPC protocol for tests. It is NOT
 * EventStoreDB and is never a runtime option: a grpc-js server in the test process serving the
 * client's own generated service definitions (Streams: Append, BatchAppend, Read, Delete,
 * Tombstone; ServerFeatures), in memory, so the real `@eventstore/db-client` can drive Keel's
 * adapter against it.
 *
 * Test controls: `dropConnections()` ends every call in flight with UNAVAILABLE (the client then
 * reconnects), `stall(true)` freezes the subscriptions open now without closing them (a half-dead
 * connection), `stall(false)` releases them.
 *
 * Not covered (see docs/testing.md, "EventStoreDB in the tests"): clusters and gossip, leader
 * elections and not-leader redirects, TLS and authentication/ACLs, persistent subscriptions, projections,
 * stream metadata semantics ($maxAge, $maxCount, ACLs), scavenging, link events, the server's
 * page-by-page checkpoint timing, and `any`-idempotency beyond its id cache (here the cache never
 * forgets).
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import serverFeaturesGrpc from '@eventstore/db-client/generated/serverfeatures_grpc_pb.js';
import serverFeaturesPb from '@eventstore/db-client/generated/serverfeatures_pb.js';
import streamsGrpc from '@eventstore/db-client/generated/streams_grpc_pb.js';
import { appendHandler, batchAppendHandler, deleteHandler, tombstoneHandler } from './append-service.js';
import type { IdempotentPosition } from './append-service.js';
import { CallRegistry } from './calls.js';
import { DoubleLog } from './log.js';
import { readHandler } from './read-service.js';

export interface EsdbProtocolDoubleOptions {
  /** Offer Streams.BatchAppend in ServerFeatures (default true, as servers since 21.10 do); false makes the client use Streams.Append. */
  readonly batchAppend?: boolean;
  /** How an idempotent re-send is answered (default: with the original position). */
  readonly idempotentPosition?: IdempotentPosition;
  /** Write a few system events first, as a real server's log starts with its own records (default true). */
  readonly systemEvents?: boolean;
}

const STREAMS = 'event_store.client.streams.Streams';

export class EsdbProtocolDouble {
  readonly log = new DoubleLog();
  private readonly calls = new CallRegistry();
  private readonly server = new Server();
  private port = 0;
  /** How many calls each Streams method has received (BatchAppend counts its shared stream once). */
  readonly methodCalls = new Map<string, number>();

  private constructor(private readonly options: EsdbProtocolDoubleOptions) {}

  /** Starts on 127.0.0.1 and a free port. */
  static async start(options: EsdbProtocolDoubleOptions = {}): Promise<EsdbProtocolDouble> {
    const double = new EsdbProtocolDouble(options);
    await double.listen();
    return double;
  }

  /** Connection string for the client (insecure, single node). */
  get url(): string {
    return `esdb://127.0.0.1:${this.port}?tls=false`;
  }

  /** Subscriptions open now. */
  get subscriptionCount(): number {
    return this.calls.subscriptionCount;
  }

  /** Ends every call in flight with UNAVAILABLE; returns how many there were. */
  dropConnections(): number {
    return this.calls.dropAll();
  }

  /** Freezes (true) or releases (false) the subscriptions open now; the calls stay open. */
  stall(on: boolean): void {
    this.calls.stallAll(on);
  }

  async close(): Promise<void> {
    this.calls.stallAll(false);
    this.calls.dropAll();
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }

  private async listen(): Promise<void> {
    const { log, calls } = this;
    const idempotentPosition = this.options.idempotentPosition ?? 'original';
    const count = <A extends unknown[], R>(method: string, handler: (...args: A) => R) => (...args: A): R => {
      this.methodCalls.set(method, (this.methodCalls.get(method) ?? 0) + 1);
      return handler(...args);
    };
    this.server.addService(streamsGrpc.StreamsService, {
      read: count('Read', readHandler(log, calls)),
      append: count('Append', appendHandler(log, calls, idempotentPosition)),
      batchAppend: count('BatchAppend', batchAppendHandler(log, calls, idempotentPosition)),
      delete: count('Delete', deleteHandler(log)),
      tombstone: count('Tombstone', tombstoneHandler(log)),
    });
    this.server.addService(serverFeaturesGrpc.ServerFeaturesService, {
      getSupportedMethods: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<InstanceType<typeof serverFeaturesPb.SupportedMethods>>) =>
        callback(null, this.supportedMethods()),
    });
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => (error ? reject(error) : resolve(port))),
    );
    if (this.options.systemEvents ?? true) {
      log.writeSystem('$settings', '$settings', { $userStreamAcl: {}, $systemStreamAcl: {} });
      log.writeSystem('$scavenges', '$scavengeIndexInitialized', {});
    }
  }

  private supportedMethods(): InstanceType<typeof serverFeaturesPb.SupportedMethods> {
    const methods = ['read', 'append', 'delete', 'tombstone', ...(this.options.batchAppend ?? true ? ['batchappend'] : [])];
    const supported = new serverFeaturesPb.SupportedMethods();
    supported.setEventStoreServerVersion('0.0.0-keel-protocol-double');
    supported.setMethodsList(
      methods.map((name) => {
        const method = new serverFeaturesPb.SupportedMethod();
        method.setServiceName(STREAMS);
        method.setMethodName(name);
        return method;
      }),
    );
    return supported;
  }
}

