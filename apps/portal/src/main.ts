import 'reflect-metadata';
import './tracing';
import { runService } from '@skyhook/service-runtime';
import { PORTAL_SERVICE } from './portal-service';

void runService(PORTAL_SERVICE);
