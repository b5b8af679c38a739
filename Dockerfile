# tugboat's image, for those with Docker: a static binary on distroless
# (CA certificates, no shell), running as the nonroot user 65532. Without
# Docker: `make image` (an OCI layout, no daemon) or `ko build ./cmd/bot`.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
RUN go build -trimpath -ldflags="-s -w" -o /out/bot ./cmd/bot

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bot /bot
USER 65532:65532
ENTRYPOINT ["/bot"]
CMD ["serve", "--config", "/etc/tugboat/config/server.yaml"]
