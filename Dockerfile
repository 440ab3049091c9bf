# syntax=docker/dockerfile:1
# Node 24 runs the TypeScript sources directly (type stripping): no build step, no compiled copy to drift;
# the compile cache below is Node's own, checked against each file's content.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:24-slim
ENV NODE_ENV=production
# glibc's malloc raises its trim and mmap thresholds as a process frees large blocks, up to 32-64 MB, and
# then keeps that much freed memory in each thread's arena: a 1M-corp re-run peaked at 149-153 MiB with
# the raising, 134-144 without (docs/benchmarks.md, twelfth round). Setting the threshold, here to glibc's
# own default of 128 KiB, turns the raising off. The shebang sets the same.
ENV MALLOC_TRIM_THRESHOLD_=131072
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY migrations ./migrations
COPY src ./src
# Every module stripped of its types and compiled ahead: a sync then never loads Node's TypeScript
# stripper (~10 MB of peak memory, 0.15 s of start-up). Node keys the cache by its version, the V8 flags
# that change compiled code (not the heap sizes: measured) and the user id, so it is filled with the
# ENTRYPOINT's flags, whatever they become, as the user that runs (node, uid 1000, as the Kubernetes
# manifests run it). Read-only at run time, which is all it needs.
ENV NODE_COMPILE_CACHE=/app/.node-compile-cache
RUN mkdir .node-compile-cache && chown node:node .node-compile-cache
# No secrets in the image: configuration comes from the environment at run time.
USER node
RUN node --max-semi-space-size=8 --max-old-space-size=512 src/cli/main.ts compile-cache
ENTRYPOINT ["node", "--max-semi-space-size=8", "--max-old-space-size=512", "src/cli/main.ts"]
CMD ["--help"]
