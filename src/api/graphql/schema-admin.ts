/** The admin half of the SDL: operations on the API itself rather than on the commerce domain. */
export const adminSchema = /* GraphQL */ `
input RevokeTokensInput {
  "The subject (a token's sub) whose tokens issued up to now are refused from now on."
  subject: ID!
}

type RevokeTokensPayload {
  subject: ID!
  """
  Tokens of the subject issued at or before this time (ISO-8601; iat has whole seconds, so one issued
  in the same second is refused too) are refused by every API process within about a second.
  """
  revokedBefore: String!
}

extend type Mutation {
  "Admin. Revokes every bearer token of a subject issued up to now."
  revokeTokens(input: RevokeTokensInput!): RevokeTokensPayload!
}
`;
