using ConnectOperator.Emulator;

// Standalone: dotnet run --project src/ConnectOperator.Emulator -- --urls http://127.0.0.1:8085 \
//   --Emulator:Keys:0:Key=my-key --Emulator:Keys:0:Secret=my-secret --Emulator:EnableAdmin=true
var options = new EmulatorOptions();
var app = EmulatorApp.Build(options, args);
if (options.Keys.Count == 0)
{
    options.Keys.Add(new EmulatorApiKey("emulator-key", "emulator-secret"));
    app.Logger.DefaultKey();
}
app.Lifetime.ApplicationStarted.Register(() => app.Logger.Listening(app.Urls, options.EnableAdmin ? "enabled" : "disabled"));
app.Run();

public partial class Program;
