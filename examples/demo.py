"""Train an LSTM on the built-in wind data, print its metrics, and write forecast.png."""
import sys

import windwidgets as ww

wind = ww.datasets.wind(days=120)
run = ww.train(wind, target="speed", model="lstm", window=48, epochs=20, hidden_size=48,
               num_layers=2, patience=4)
print(run)
print("\nOne hour ahead on the validation part, next to the naive baselines:")
print(run.evaluate().table.round(3).to_string())
forecast = run.forecast(72)
print(forecast.head())
path = sys.argv[1] if len(sys.argv) > 1 else "forecast.png"
run.plot_forecast(forecast, last=240).savefig(path, dpi=110)
print(f"wrote {path}")
