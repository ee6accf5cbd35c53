# Multi-stage build of the operator image: an SDK stage builds, a small runtime stage runs (chiseled: no shell,
# no package manager), as a non-root user. Where no registry can be reached, hack/image/make-base.sh makes a
# local runtime base and the `prebuilt` target packs an app published on the host (see the chart README).
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled

FROM ${RUNTIME_IMAGE} AS base
WORKDIR /app
# 1654 is the non-root "app" user of the .NET images.
USER 1654:1654
ENV ASPNETCORE_URLS= \
    DOTNET_gcServer=0
# 9443: admission webhooks (TLS); 8080: /metrics, /healthz, /readyz
EXPOSE 9443 8080
ENTRYPOINT ["/app/connect-operator"]
CMD ["run"]

# Packs `dotnet publish src/ConnectOperator -c Release -o .artifacts/publish`, for machines without the SDK image.
FROM base AS prebuilt
COPY .artifacts/publish/ ./

FROM ${SDK_IMAGE} AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ./
COPY src/ConnectOperator/ConnectOperator.csproj src/ConnectOperator/
COPY src/ConnectOperator.Confluent/ConnectOperator.Confluent.csproj src/ConnectOperator.Confluent/
RUN dotnet restore src/ConnectOperator/ConnectOperator.csproj
COPY crds/ crds/
COPY src/ src/
RUN dotnet publish src/ConnectOperator/ConnectOperator.csproj -c Release -o /out --no-restore

FROM base AS runtime
COPY --from=build /out/ ./
