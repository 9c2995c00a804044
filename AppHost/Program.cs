using Platform.Hosting;
using Platform.Hosting.ApplicationModel;

var builder = DistributedApplication.CreateBuilder(args);

// The first key of the system tenant; rotate it by setting Parameters:admin-api-key.
var adminApiKey = builder.AddGeneratedParameter("admin-api-key", new GenerateParameterDefault(MinLength: 32, Special: false));

var postgres = builder.AddPostgres("postgres", port: 15432);
var orchestratorDb = postgres.AddDatabase("orchestratordb");
var planningDb = postgres.AddDatabase("planningdb");
var modelDb = postgres.AddDatabase("modeldb");
var toolDb = postgres.AddDatabase("tooldb");

var cache = builder.AddRedis("cache", port: 16379);

var model = builder.AddProject<Projects.Model>("model")
    .WithReference(modelDb).WaitFor(modelDb)
    .WithReference(cache).WaitFor(cache);

var tool = builder.AddProject<Projects.Tool>("tool")
    .WithReference(toolDb).WaitFor(toolDb)
    .WithReference(cache).WaitFor(cache);

var planning = builder.AddProject<Projects.Planning>("planning")
    .WithReference(planningDb).WaitFor(planningDb)
    .WithReference(cache).WaitFor(cache)
    .WithReference(model);

var orchestrator = builder.AddProject<Projects.Orchestrator>("orchestrator")
    .WithReference(orchestratorDb).WaitFor(orchestratorDb)
    .WithReference(cache).WaitFor(cache)
    .WithReference(planning)
    .WithReference(model)
    .WithReference(tool)
    .WithEnvironment("Authentication__BootstrapAdminKey", adminApiKey);

builder.AddProject<Projects.Dashboard>("dashboard")
    .WithReference(cache).WaitFor(cache)
    .WithReference(orchestrator)
    .WithReference(planning)
    .WithReference(model)
    .WithReference(tool)
    .WithExternalHttpEndpoints();

builder.Build().Run();
