# Showcase on Debian bookworm with Node 24 LTS (the official image is bookworm-based): the same
# setup script as a bare machine (it uses the image's Node 24 and so fetches no runtime), then the
# server. Packages come only from Debian's archive and the npm registry.
FROM node:24-bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /app
COPY . .
RUN bash scripts/setup.sh && rm -rf /var/lib/apt/lists/*
ENV SHOWCASE_DATA_DIR=/data
VOLUME /data
EXPOSE 8080 1935
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
