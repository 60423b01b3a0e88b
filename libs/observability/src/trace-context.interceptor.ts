import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import { Observable } from 'rxjs';
import { runWithTraceId, traceIdFrom } from './trace-context';

/**
 * Runs each HTTP handler inside the request's trace, so its logs and the Kafka records it
 * produces carry the same id as the request log line.
 */
@Injectable()
export class TraceContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') {
      return next.handle();
    }
    const request = context.switchToHttp().getRequest<{ id?: unknown }>();
    const traceId = traceIdFrom(request.id);
    return new Observable((subscriber) => runWithTraceId(traceId, () => next.handle().subscribe(subscriber)));
  }
}
