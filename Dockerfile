# syntax=docker/dockerfile:1

# Builds the single herald binary and ships it on distroless, as non-root.
#
#   docker build --build-arg VERSION="$(git describe --always --dirty)" -t herald .
#   docker run --rm herald version

FROM golang:1.26 AS build
WORKDIR /src

# Dependencies first, so code changes reuse this layer.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download

COPY . .
# .git is not in the build context, so the version comes in as an argument.
ARG VERSION=dev
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath \
        -ldflags "-X github.com/heraldhq/herald/internal/version.Version=${VERSION}" \
        -o /out/herald ./cmd/herald

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/herald /herald
USER nonroot:nonroot
# Listen on every interface inside the container; publish the port to choose
# who can reach it.
ENV HERALD_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/herald"]
CMD ["serve"]
