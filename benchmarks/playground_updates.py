"""Updates per second of the playground page, counted in headless Chromium.

Starts the server (uvicorn in a thread, a free loopback port), opens the page with a
configuration in its URL, plays for SECONDS and counts the frames the page received
(``window.playground.frames``) and the steps it reached. Needs Debian's chromium and
chromium-driver and ``reglab[playground,test]``.

Run: python benchmarks/playground_updates.py [SECONDS]
"""
import json
import os
import socket
import sys
import threading
import time
import urllib.parse

import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from reglab.playground.server import create_app

SECONDS = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0
COL = {"learning_rate": 0.3, "init": "he", "l2": 0, "l1": 0, "keep_prob": [1, 1], "early_stopping": None,
       "augment": None}
BASE = {"dataset": "field", "n_samples": 400, "noise": 0.1, "data_seed": 0, "dev": True, "split": None, "train_size": None,
        "layers": [8, 8], "hidden": "relu", "batch_size": None, "seed": 0, "record_every": 10,
        "course_compat": False, "columns": [COL]}
CASES = [("field [8,8], 1 column", BASE, 10), ("field [8,8], 1 column", BASE, 1000),
         ("field [20,3], 3 columns", dict(BASE, layers=[20, 3], columns=[COL, COL | {"l2": 0.7},
                                                                         COL | {"keep_prob": [0.86, 0.86]}]), 10),
         ("field [20,3], 3 columns", dict(BASE, layers=[20, 3], columns=[COL, COL | {"l2": 0.7},
                                                                         COL | {"keep_prob": [0.86, 0.86]}]), 1000),
         ("field [32,32,32], 4 columns", dict(BASE, layers=[32, 32, 32], columns=[COL | {"keep_prob": [1] * 3}] * 4),
          1000)]

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
threading.Thread(target=server.run, daemon=True).start()
while not server.started:
    time.sleep(0.05)
options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1600"):
    options.add_argument(arg)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
try:
    for name, cfg, speed in CASES:
        driver.get("about:blank")
        driver.get(f"http://127.0.0.1:{port}/#c=" + urllib.parse.quote(json.dumps(cfg)))
        time.sleep(1.5)
        Select(driver.find_element(By.ID, "speed")).select_by_value(str(speed))
        driver.find_element(By.ID, "play").click()
        time.sleep(1)
        f0, s0, t0 = (driver.execute_script("return window.playground.frames"),
                      int(driver.find_element(By.ID, "step").text), time.perf_counter())
        time.sleep(SECONDS)
        f1, s1, t1 = (driver.execute_script("return window.playground.frames"),
                      int(driver.find_element(By.ID, "step").text), time.perf_counter())
        draw = driver.execute_script("return window.playground.drawMs")
        driver.find_element(By.ID, "play").click()
        print(f"{name:30s} steps/update {speed:5d}: {(f1 - f0) / (t1 - t0):5.1f} updates/s, "
              f"{(s1 - s0) / (t1 - t0):6.0f} steps/s per column, page draws a frame in {draw:4.1f} ms, "
              f"load average {os.getloadavg()[0]:.1f}")
finally:
    driver.quit()
    server.should_exit = True
