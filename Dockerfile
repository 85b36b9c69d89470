# Showcase on Debian bookworm (the official Node 20 image is bookworm-based): the same setup
# script as a bare machine, then the server.
FROM node:20-bookworm-slim
ENV DEBIAN_FRONTEND=noninteractive
WORKDIR /app
COPY . .
RUN bash scripts/setup.sh && rm -rf /var/lib/apt/lists/*
ENV SHOWCASE_DATA_DIR=/data
VOLUME /data
EXPOSE 8080 1935
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/main.js"]
