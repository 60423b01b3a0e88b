import { ProjectionCheckpoint } from './entities/projection-checkpoint.entity';
import { CreateProjectionCheckpoints1763900000000 } from './migrations/1763900000000-create-projection-checkpoints';

/** Every entity and every migration, in order. A new migration is appended here. */
export const ENTITIES = [ProjectionCheckpoint];
export const MIGRATIONS = [CreateProjectionCheckpoints1763900000000];
