# Two images from one build, both without a shell or package manager (chiseled bases), running as a non-root user:
# - the operator (default target `runtime`): one NativeAOT executable on runtime-deps. No JIT runtime is loaded, which
#   is most of the operator's memory at rest (BENCHMARKS.md);
# - `validate`: the same program on the ASP.NET Core runtime, for the CI jobs that run `connect-operator validate`
#   (its CRD schema validator, NJsonSchema, needs reflection the native executable does not carry; deploy/ci).
# Where no registry can be reached, hack/image/make-base.sh makes local bases and the `prebuilt` / `prebuilt-validate`
# targets pack builds made on the host (see the chart README). Docker's legacy builder also builds every stage above
# the target, so pass both RUNTIME_IMAGE and VALIDATE_RUNTIME_IMAGE there.
# The bases are tags by default, which move with every .NET patch release. For a reproducible image pass them by
# digest (`--build-arg RUNTIME_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled@sha256:<digest>`),
# or put the digest in these defaults and let Renovate/Dependabot update it; the chart README says how to pin the
# operator image itself. NuGet packages are pinned by the packages*.lock.json files, restored in locked mode below.
# The NativeAOT lock also records the ILCompiler package of the SDK that wrote it (10.0.12 with SDK 10.0.401): an SDK
# image of another patch level fails the locked restore (NU1004) until the lock is written again with that SDK
# (`dotnet restore src/ConnectOperator -r linux-x64 -p:PublishAot=true`), which is one more reason to pin it.
ARG AOT_SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0-noble-aot
ARG SDK_IMAGE=mcr.microsoft.com/dotnet/sdk:10.0
ARG RUNTIME_IMAGE=mcr.microsoft.com/dotnet/runtime-deps:10.0-noble-chiseled
ARG VALIDATE_RUNTIME_IMAGE=mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled

FROM ${RUNTIME_IMAGE} AS base
WORKDIR /app
# 1654 is the non-root "app" user of the .NET images.
USER 1654:1654
ENV ASPNETCORE_URLS=
# 9443: admission webhooks (TLS); 8080: /metrics, /healthz, /readyz
EXPOSE 9443 8080
ENTRYPOINT ["/app/connect-operator"]
CMD ["run"]

# Packs hack/publish-native.sh's output (.artifacts/native), for machines without the SDK image.
FROM base AS prebuilt
COPY .artifacts/native/ ./

FROM ${VALIDATE_RUNTIME_IMAGE} AS validate-base
WORKDIR /app
USER 1654:1654
ENTRYPOINT ["/app/connect-operator"]
CMD ["validate", "--help"]

# Packs `dotnet publish src/ConnectOperator -c Release -o .artifacts/publish`, for machines without the SDK image.
FROM validate-base AS prebuilt-validate
COPY .artifacts/publish/ ./

FROM ${AOT_SDK_IMAGE} AS build-native
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ./
COPY src/ConnectOperator/ConnectOperator.csproj src/ConnectOperator/packages.linux-x64-aot.lock.json src/ConnectOperator/
COPY src/ConnectOperator.Confluent/ConnectOperator.Confluent.csproj src/ConnectOperator.Confluent/packages.linux-x64-aot.lock.json src/ConnectOperator.Confluent/
RUN dotnet restore src/ConnectOperator/ConnectOperator.csproj -r linux-x64 -p:PublishAot=true --locked-mode
COPY crds/ crds/
COPY src/ src/
RUN dotnet publish src/ConnectOperator/ConnectOperator.csproj -c Release -r linux-x64 -p:PublishAot=true -o /out --no-restore \
 && rm -f /out/*.dbg /out/*.pdb

FROM ${SDK_IMAGE} AS build
WORKDIR /src
COPY Directory.Build.props Directory.Packages.props ./
COPY src/ConnectOperator/ConnectOperator.csproj src/ConnectOperator/packages.lock.json src/ConnectOperator/
COPY src/ConnectOperator.Confluent/ConnectOperator.Confluent.csproj src/ConnectOperator.Confluent/packages.lock.json src/ConnectOperator.Confluent/
RUN dotnet restore src/ConnectOperator/ConnectOperator.csproj --locked-mode
COPY crds/ crds/
COPY src/ src/
RUN dotnet publish src/ConnectOperator/ConnectOperator.csproj -c Release -o /out --no-restore

FROM validate-base AS validate
COPY --from=build /out/ ./

FROM base AS runtime
COPY --from=build-native /out/ ./
