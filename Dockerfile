# syntax=docker/dockerfile:1
# Node 24 runs the TypeScript sources directly (type stripping): no build step, no compiled copy to drift.
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
# No secrets in the image: configuration comes from the environment at run time.
USER node
ENTRYPOINT ["node", "--max-semi-space-size=8", "--max-old-space-size=512", "src/cli/main.ts"]
CMD ["--help"]
