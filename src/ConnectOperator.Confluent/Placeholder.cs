namespace ConnectOperator.Confluent; internal static class Placeholder { }
