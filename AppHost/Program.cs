var builder = DistributedApplication.CreateBuilder(args);

// Kubernetes YAML from this model beside the manifest: --operation publish --step publish-kubernetes --output-path <folder>.
builder.AddKubernetesPublishing();

// The first key of the system tenant; rotate it by setting Parameters:admin-api-key.
var adminApiKey = builder.AddParameter("admin-api-key", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);

// Encrypts the tenants' secrets the services store; docs/operations/secrets-rotation.md says how to rotate it.
var secretsKey = builder.AddParameter("secrets-key", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);

// Aspire's PostgreSQL and Redis containers in the manifest and wherever a container runtime runs them; local processes
// from Debian's packages where none does (the default here, and CI); an existing server when ConnectionStrings names one.
var postgres = builder.AddPostgresServer("postgres").WithBackupCommands();
var orchestratorDb = postgres.AddDatabase("orchestratordb");
var planningDb = postgres.AddDatabase("planningdb");
var modelDb = postgres.AddDatabase("modeldb");
var toolDb = postgres.AddDatabase("tooldb");

var cache = builder.AddRedisServer("cache");

var model = builder.AddService<Projects.Model>("model")
    .WithReference(modelDb).WaitFor(modelDb)
    .WithReference(cache).WaitFor(cache)
    .WithSecretsKey(secretsKey)
    .WithKubernetesWorkload(k => (k.ReachesInternet, k.MemoryLimit) = (true, "1Gi")); // model providers; tokenizers and the response cache

var tool = builder.AddService<Projects.Tool>("tool")
    .WithReference(toolDb).WaitFor(toolDb)
    .WithReference(cache).WaitFor(cache)
    .WithSecretsKey(secretsKey)
    .WithKubernetesWorkload(k => k.ReachesInternet = true); // HTTP tools and MCP servers

var planning = builder.AddService<Projects.Planning>("planning")
    .WithReference(planningDb).WaitFor(planningDb)
    .WithReference(cache).WaitFor(cache)
    .WithReference(model)
    .WithReference(tool);

var orchestrator = builder.AddService<Projects.Orchestrator>("orchestrator")
    .WithReference(orchestratorDb).WaitFor(orchestratorDb)
    .WithReference(cache).WaitFor(cache)
    .WithReference(planning)
    .WithReference(model)
    .WithReference(tool)
    .WithEnvironment("Authentication__BootstrapAdminKey", adminApiKey)
    .WithSecretsKey(secretsKey)
    .WithIssueAdminKeyCommand(adminApiKey)
    .WithKubernetesWorkload(k => k.ReachesInternet = true); // webhooks

// The gateway answers for agents (model "agent:<name>") through runs of the orchestrator.
model.WithReference(orchestrator);

builder.AddService<Projects.Dashboard>("dashboard")
    .WithReference(cache).WaitFor(cache)
    .WithReference(orchestrator)
    .WithReference(planning)
    .WithReference(model)
    .WithReference(tool)
    .WithExternalHttpEndpoints()
    .WithKubernetesWorkload(k => k.StickySessions = true); // an interactive page's circuit lives in one replica

builder.Build().Run();
