global using Platform.AppHost;
