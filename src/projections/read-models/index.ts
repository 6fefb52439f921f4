/** Every read model Keel runs, in the order `keel projections list` shows them. */
import type { Projection } from '../projection.js';

export const readModels: readonly Projection[] = [];
