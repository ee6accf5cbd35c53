# syntax=docker/dockerfile:1
# Build stage: the full SDK restores and publishes the operator.
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled
FROM ${SDK_IMAGE} AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ConnectOperator.sln ./
COPY src/ConnectOperator/ConnectOperator.csproj src/ConnectOperator/
COPY src/ConnectOperator.Confluent/ConnectOperator.Confluent.csproj src/ConnectOperator.Confluent/
RUN dotnet restore src/ConnectOperator/ConnectOperator.csproj
COPY crds/ crds/
COPY src/ src/
RUN dotnet publish src/ConnectOperator/ConnectOperator.csproj -c Release -o /out --no-restore /p:UseAppHost=true

# Runtime stage: chiseled (no shell, no package manager), non-root.
FROM ${RUNTIME_IMAGE}
WORKDIR /app
COPY --from=build /out/ ./
# 1654 is the non-root "app" user of the .NET images.
USER 1654:1654
ENV ASPNETCORE_URLS= \
    DOTNET_gcServer=0 \
    DOTNET_GCHeapHardLimitPercent=0x4B
# 9443: admission webhooks (TLS); 8080: /metrics, /healthz, /readyz
EXPOSE 9443 8080
ENTRYPOINT ["/app/connect-operator"]
CMD ["run"]
