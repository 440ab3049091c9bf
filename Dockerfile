# syntax=docker/dockerfile:1
# Node 24 runs the TypeScript sources directly (type stripping): no build step, no compiled copy to drift;
# the compile cache below is Node's own, checked against each file's content.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY migrations ./migrations
COPY src ./src
# Every module stripped of its types and compiled ahead, with the ENTRYPOINT's node flags (the cache is
# keyed by them): a sync then never loads Node's TypeScript stripper, ~25 MB of peak memory and 0.15 s of
# start-up. Read-only at run time, which is all it needs.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN node --max-semi-space-size=8 --max-old-space-size=512 src/cli/main.ts compile-cache
# No secrets in the image: configuration comes from the environment at run time.
USER node
ENTRYPOINT ["node", "--max-semi-space-size=8", "--max-old-space-size=512", "src/cli/main.ts"]
CMD ["--help"]
