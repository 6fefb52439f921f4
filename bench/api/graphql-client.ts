/** A minimal GraphQL-over-HTTP client for seeding and checks (fetch; not the load generator). */

export interface GraphqlAnswer {
  readonly status: number;
  readonly data?: Readonly<Record<string, unknown>> | null;
  readonly errors?: ReadonlyArray<{ readonly message: string; readonly extensions?: Readonly<Record<string, unknown>> }>;
}

export const postGraphql = async (url: string, query: string, variables?: Readonly<Record<string, unknown>>, token?: string): Promise<GraphqlAnswer> => {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
    body: JSON.stringify({ query, ...(variables === undefined ? {} : { variables }) }),
  });
  const body: unknown = await response.json();
  if (typeof body !== 'object' || body === null) throw new Error(`POST /graphql answered ${response.status} with ${JSON.stringify(body)}`);
  return { status: response.status, ...body };
};

/** The answer's `data[field]`, or an Error naming the field and what came back instead. */
export const fieldOf = (answer: GraphqlAnswer, field: string): Readonly<Record<string, unknown>> => {
  const value = answer.data?.[field];
  if (answer.status !== 200 || answer.errors !== undefined || typeof value !== 'object' || value === null) {
    throw new Error(`${field}: HTTP ${answer.status} ${JSON.stringify(answer)}`);
  }
  return value as Readonly<Record<string, unknown>>;
};

export const stringField = (answer: GraphqlAnswer, field: string, key: string): string => {
  const value = fieldOf(answer, field)[key];
  if (typeof value !== 'string') throw new Error(`${field}.${key}: not a string in ${JSON.stringify(answer)}`);
  return value;
};
