/**
 * graphql-js exactly as mercurius loads it. graphql ships a CommonJS and an ES module build; a
 * bundler-style resolver (vitest) can hand our `import 'graphql'` the ES build while mercurius
 * `require`s the CommonJS one, and then `instanceof GraphQLError` fails and graphql's own type
 * checks throw "from another module or realm". Every runtime value of graphql the API uses comes
 * from here, so there is one graphql in the process whatever loads it.
 */
import { createRequire } from 'node:module';
import type * as GraphQL from 'graphql';

const require = createRequire(import.meta.url);

export const graphql: typeof GraphQL = require('graphql');
