# One image for all the apps (four services and the portal); the command (compose `command`, Kubernetes `args`) picks which runs.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0 TS_NODE_BASEURL=/app/dist TS_NODE_PROJECT=/app/tsconfig.base.json
WORKDIR /app
COPY --from=build /app/package.json /app/tsconfig.base.json /app/nx.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
# kafkajs 2.2.4 computes a negative (harmless) timeout that Node 23+ warns about; keep stderr for errors.
ENTRYPOINT ["node", "--disable-warning=TimeoutNegativeWarning", "-r", "tsconfig-paths/register"]
CMD ["dist/apps/api/src/main.js"]
