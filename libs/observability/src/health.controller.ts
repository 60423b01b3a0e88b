import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { ReadinessRegistry } from './readiness-registry';

const READINESS_CHECK_TIMEOUT_MS = 3_000;

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly readiness: ReadinessRegistry,
  ) {}

  /** Liveness: the process runs and its event loop answers. Never depends on other systems. */
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: every registered dependency answers; 503 with the failing ones otherwise. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check(
      this.readiness.checks.map((readinessCheck) => async () => {
        const session = this.indicators.check(readinessCheck.name);
        try {
          const detail = await withTimeout(readinessCheck.check(), READINESS_CHECK_TIMEOUT_MS);
          return session.up(detail ?? undefined);
        } catch (error) {
          return session.down({ reason: error instanceof Error ? error.message : String(error) });
        }
      }),
    );
  }
}

async function withTimeout<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
