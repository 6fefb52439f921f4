/** A stored event Keel cannot read: unknown type, unknown version, or data that fails its schema. */
export class EventDecodingError extends Error {
  constructor(
    message: string,
    readonly eventType: string,
    readonly schemaVersion: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'EventDecodingError';
  }
}
